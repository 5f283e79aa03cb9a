<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR" sourcelanguage="en">
<context>
    <name>@default</name>
    <message>
        <location filename="../algorithms/engine.py" line="81"/>
        <source>RadioMatch cannot run: the Python module(s) {} cannot be imported.</source>
        <translation>RadioMatch ne peut pas s'exécuter : le ou les modules Python {} ne peuvent pas être importés.</translation>
    </message>
    <message>
        <location filename="../algorithms/engine.py" line="85"/>
        <source>RadioMatch cannot run: its engine could not be imported.</source>
        <translation>RadioMatch ne peut pas s'exécuter : son moteur n'a pas pu être importé.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="69"/>
        <source>File name of each output, without folder; &lt;code&gt;$&lt;/code&gt; is replaced by the input&apos;s name and &lt;code&gt;.tif&lt;/code&gt; is added. It must contain &lt;code&gt;$&lt;/code&gt; when there are several inputs.</source>
        <translation>Nom de fichier de chaque sortie, sans dossier ; &lt;code&gt;$&lt;/code&gt; est remplacé par le nom de l'entrée et &lt;code&gt;.tif&lt;/code&gt; est ajouté. Il doit contenir &lt;code&gt;$&lt;/code&gt; quand il y a plusieurs entrées.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="74"/>
        <source>Folder the corrected GeoTIFFs are written to (created if needed). Existing files of the same name are replaced; an output can never be one of the inputs.</source>
        <translation>Dossier où sont écrits les GeoTIFF corrigés (créé si nécessaire). Les fichiers existants de même nom sont remplacés ; une sortie ne peut jamais être l'une des entrées.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="95"/>
        <source>Optional polygon layer limiting the pixels used for the statistics (all pixels are still corrected). Any vector layer works, including memory layers; when only selected features is ticked, only the selection is used. Geometries are reprojected to the CRS of the first input raster.</source>
        <translation>Couche de polygones facultative qui limite les pixels utilisés pour les statistiques (tous les pixels sont tout de même corrigés). Toute couche vecteur convient, y compris les couches en mémoire ; si « entités sélectionnées uniquement » est coché, seule la sélection est utilisée. Les géométries sont reprojetées dans le SCR du premier raster en entrée.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="101"/>
        <source>&lt;i&gt;Include&lt;/i&gt;: use only pixels whose centre is inside the polygons (e.g. a land area). &lt;i&gt;Exclude&lt;/i&gt;: ignore pixels inside the polygons (e.g. clouds, water).</source>
        <translation>&lt;i&gt;Inclure&lt;/i&gt; : n'utiliser que les pixels dont le centre est à l'intérieur des polygones (par ex. une zone terrestre). &lt;i&gt;Exclure&lt;/i&gt; : ignorer les pixels à l'intérieur des polygones (par ex. nuages, eau).</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="105"/>
        <source>Optional field of the mask layer: a polygon then applies only to the image whose name equals the field value or is one entry of a comma- or semicolon-separated list in it (e.g. &apos;tile_1, tile_2&apos;). Empty: every polygon applies to every image.</source>
        <translation>Champ facultatif de la couche de masque : un polygone ne s'applique alors qu'à l'image dont le nom est égal à la valeur du champ ou figure dans une liste séparée par des virgules ou des points-virgules (par ex. 'tile_1, tile_2'). Vide : chaque polygone s'applique à chaque image.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="120"/>
        <source>Write Cloud-Optimized GeoTIFFs (GDAL COG driver, with overviews) instead of tiled GeoTIFFs.</source>
        <translation>Écrire des GeoTIFF optimisés pour le cloud (pilote COG de GDAL, avec aperçus) au lieu de GeoTIFF tuilés.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="131"/>
        <source>Write detailed engine messages to the log. Never changes the results.</source>
        <translation>Écrire les messages détaillés du moteur dans le journal. Ne change jamais les résultats.</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="424"/>
        <source>The report {} cannot be written ({}).</source>
        <translation>Le rapport {} ne peut pas être écrit ({}).</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="436"/>
        <source>Writing the report</source>
        <translation>Écriture du rapport</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="442"/>
        <source>The corrected rasters were written, but the report {} could not be ({}).</source>
        <translation>Les rasters corrigés ont été écrits, mais le rapport {} n'a pas pu l'être ({}).</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="445"/>
        <source>Report written to {}</source>
        <translation>Rapport écrit dans {}</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="21"/>
        <source>Input raster not found: {} (no such file).</source>
        <translation>Raster en entrée introuvable : {} (fichier inexistant).</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="22"/>
        <source>Cannot read {} as a raster: GDAL cannot open it (not a raster file, or damaged).</source>
        <translation>Impossible de lire {} comme raster : GDAL ne peut pas l'ouvrir (ce n'est pas un fichier raster, ou il est endommagé).</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="49"/>
        <source>Layer &apos;{}&apos; ({}) is not a raster layer.</source>
        <translation>La couche '{}' ({}) n'est pas une couche raster.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="54"/>
        <source>Layer &apos;{}&apos; is not a file-based raster (data provider &apos;{}&apos;); RadioMatch reads raster files only. Save the layer as a GeoTIFF first (right-click &gt; Export &gt; Save As...).</source>
        <translation>La couche '{}' n'est pas un raster fondé sur un fichier (fournisseur de données '{}') ; RadioMatch ne lit que des fichiers raster. Enregistrez d'abord la couche en GeoTIFF (clic droit &gt; Exporter &gt; Enregistrer sous...).</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="63"/>
        <source>Layer &apos;{}&apos; is not a single raster file ({}); RadioMatch reads raster files only. Save the layer as a GeoTIFF first.</source>
        <translation>La couche '{}' n'est pas un fichier raster unique ({}) ; RadioMatch ne lit que des fichiers raster. Enregistrez d'abord la couche en GeoTIFF.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="67"/>
        <source>Layer &apos;{}&apos; is the sub-layer &apos;{}&apos; of {}; RadioMatch reads whole raster files. Save the layer as a GeoTIFF first.</source>
        <translation>La couche '{}' est la sous-couche '{}' de {} ; RadioMatch lit des fichiers raster entiers. Enregistrez d'abord la couche en GeoTIFF.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="240"/>
        <source>No output folder given ({}).</source>
        <translation>Aucun dossier de sortie indiqué ({}).</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="252"/>
        <source>Output file name &apos;{}&apos; ({}) must be a file name, not a path; choose the folder with {}.</source>
        <translation>Le nom de fichier de sortie '{}' ({}) doit être un nom de fichier, pas un chemin ; choisissez le dossier avec {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="256"/>
        <source>Output file name &apos;{}&apos; ({}) has no $: with {} inputs every output would get the same name. Use $ for the input name, e.g. &apos;{}&apos;.</source>
        <translation>Le nom de fichier de sortie '{}' ({}) ne contient pas $ : avec {} entrées, toutes les sorties auraient le même nom. Utilisez $ pour le nom de l'entrée, par ex. '{}'.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="38"/>
        <source>The mask layer has no CRS; its coordinates are taken to be in the rasters&apos; CRS.</source>
        <translation>La couche de masque n'a pas de SCR ; ses coordonnées sont considérées comme étant dans le SCR des rasters.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="49"/>
        <source>Canceled.</source>
        <translation>Annulé.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="73"/>
        <source>Mask feature {} cannot be transformed to the rasters&apos; CRS ({}).</source>
        <translation>L'entité de masque {} ne peut pas être transformée dans le SCR des rasters ({}).</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="134"/>
        <source>The first input raster has no CRS, so the polygon mask cannot be placed on it.</source>
        <translation>Le premier raster en entrée n'a pas de SCR, le masque de polygones ne peut donc pas y être placé.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="137"/>
        <source>Polygon mask: {} polygon(s), mode &apos;{}&apos;{}.</source>
        <translation>Masque de polygones : {} polygone(s), mode '{}'{}.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="137"/>
        <source>, matched to images by field &apos;{}&apos;</source>
        <translation>, associés aux images par le champ '{}'</translation>
    </message>
    <message>
        <location filename="../algorithms/engine.py" line="212"/>
        <source>Canceled: {}</source>
        <translation>Annulé : {}</translation>
    </message>
    <message>
        <location filename="../algorithms/report.py" line="168"/>
        <source>Warnings</source>
        <translation>Avertissements</translation>
    </message>
    <message>
        <location filename="../algorithms/report.py" line="166"/>
        <source>None.</source>
        <translation>Aucun.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="54"/>
        <source>The footprints are not available.</source>
        <translation>Les emprises ne sont pas disponibles.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="131"/>
        <source>Footprints and overlap graph</source>
        <translation>Emprises et graphe des recouvrements</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="64"/>
        <source>before</source>
        <translation>avant</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="67"/>
        <source>after</source>
        <translation>après</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="204"/>
        <source>Images</source>
        <translation>Images</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="204"/>
        <source>Bands</source>
        <translation>Bandes</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="120"/>
        <source>Overlapping pairs</source>
        <translation>Paires qui se recouvrent</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="120"/>
        <source>Overlap groups</source>
        <translation>Groupes de recouvrement</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="132"/>
        <source>Each rectangle is an image footprint, coloured by overlap group; a line joins two overlapping images and is wider for more overlap pixels (dashed: no valid pixel in common). Images outlined in dashed red were left unchanged (scale 1, offset 0) or form a group of their own.</source>
        <translation>Chaque rectangle est l'emprise d'une image, colorée selon son groupe de recouvrement ; un trait relie deux images qui se recouvrent, d'autant plus épais que le recouvrement compte de pixels (en pointillé : aucun pixel valide en commun). Les images bordées de rouge en pointillé sont restées inchangées (échelle 1, décalage 0) ou forment un groupe à elles seules.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="141"/>
        <source>{}: left at identity (scale 1, offset 0).</source>
        <translation>{} : laissée à l'identité (échelle 1, décalage 0).</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="143"/>
        <source>{}: overlaps no other image, balanced on its own.</source>
        <translation>{} : ne recouvre aucune autre image, équilibrée seule.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="145"/>
        <source>The images form {} separate groups; each group is balanced on its own and the groups are not matched to each other.</source>
        <translation>Les images forment {} groupes séparés ; chaque groupe est équilibré séparément et les groupes ne sont pas ajustés entre eux.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="138"/>
        <source>Band {}</source>
        <translation>Bande {}</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="151"/>
        <source>Statistics and corrections</source>
        <translation>Statistiques et corrections</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="241"/>
        <source>Image</source>
        <translation>Image</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="101"/>
        <source>Band</source>
        <translation>Bande</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="156"/>
        <source>Group</source>
        <translation>Groupe</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="156"/>
        <source>Scale</source>
        <translation>Échelle</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="161"/>
        <source>Offset</source>
        <translation>Décalage</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="156"/>
        <source>Mean before</source>
        <translation>Moyenne avant</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="157"/>
        <source>Mean after</source>
        <translation>Moyenne après</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="157"/>
        <source>Std. dev. before</source>
        <translation>Écart type avant</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="157"/>
        <source>Std. dev. after</source>
        <translation>Écart type après</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="166"/>
        <source>identity</source>
        <translation>identité</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="168"/>
        <source>separate group</source>
        <translation>groupe séparé</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="183"/>
        <source>Overlaps</source>
        <translation>Recouvrements</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="188"/>
        <source>Pixel pairs (band 1)</source>
        <translation>Paires de pixels (bande 1)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="207"/>
        <source>Grid extent (left, bottom, right, top)</source>
        <translation>Emprise de la grille (gauche, bas, droite, haut)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="214"/>
        <source>Gamma shift</source>
        <translation>Décalage gamma</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="241"/>
        <source>Output</source>
        <translation>Sortie</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="225"/>
        <source>Unchanged (no block mean)</source>
        <translation>Inchangés (pas de moyenne de bloc)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="225"/>
        <source>Unchanged (guarded)</source>
        <translation>Inchangés (protégés)</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="241"/>
        <source>Clipped</source>
        <translation>Écrêtés</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="241"/>
        <source>Moved off nodata</source>
        <translation>Déplacés hors de nodata</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="235"/>
        <source>The engine did not return the block maps; no thumbnails can be drawn.</source>
        <translation>Le moteur n'a pas renvoyé les cartes de blocs ; aucune vignette ne peut être dessinée.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="252"/>
        <source>Block means: reference and local maps</source>
        <translation>Moyennes des blocs : cartes de référence et locales</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="246"/>
        <source>Reference</source>
        <translation>Référence</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="263"/>
        <source>block mean</source>
        <translation>moyenne du bloc</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="127"/>
        <source>Gamma per block</source>
        <translation>Gamma par bloc</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="127"/>
        <source>gamma</source>
        <translation>gamma</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="136"/>
        <source>gain</source>
        <translation>gain</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="223"/>
        <source>Only the first {} images are shown.</source>
        <translation>Seules les {} premières images sont affichées.</translation>
    </message>
    <message>
        <location filename="../algorithms/report.py" line="147"/>
        <source>RadioMatch {}, report written on {}</source>
        <translation>RadioMatch {}, rapport écrit le {}</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="152"/>
        <source>Mean and standard deviation of the valid pixels (inside the polygon mask, if any) before the correction, and after it as given by scale times value plus offset (before the outputs are rounded and clipped to their data type).</source>
        <translation>Moyenne et écart type des pixels valides (à l'intérieur du masque de polygones, s'il y en a un) avant la correction, et après celle-ci, tels que donnés par échelle fois valeur plus décalage (avant que les sorties soient arrondies et écrêtées à leur type de données).</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="203"/>
        <source>RadioMatch: Global regression report</source>
        <translation>RadioMatch : rapport de la régression globale</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="205"/>
        <source>Block grid (rows x columns)</source>
        <translation>Grille de blocs (lignes x colonnes)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="282"/>
        <source>RadioMatch: Local block adjustment report</source>
        <translation>RadioMatch : rapport de l'ajustement local par blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="188"/>
        <source>Pixels rejected by the robust fit, per band</source>
        <translation>Pixels rejetés par l'ajustement robuste, par bande</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="227"/>
        <source>{} must be a number, not {}.</source>
        <translation>{} doit être un nombre, pas {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="231"/>
        <source>{} must be a number, not &apos;{}&apos;.</source>
        <translation>{} doit être un nombre, pas '{}'.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="236"/>
        <source>{} must be a finite number, not {}.</source>
        <translation>{} doit être un nombre fini, pas {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="238"/>
        <source>{} must be a whole number, not {}.</source>
        <translation>{} doit être un nombre entier, pas {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="243"/>
        <source>{} must be between {} and {}, not {}.</source>
        <translation>{} doit être compris entre {} et {}, pas {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="246"/>
        <source>{} must be at least {}, not {}.</source>
        <translation>{} doit valoir au moins {}, pas {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="248"/>
        <source>{} must be at most {}, not {}.</source>
        <translation>{} doit valoir au plus {}, pas {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="262"/>
        <source>{} must be the number of one of its options ({}), not &apos;{}&apos;.</source>
        <translation>{} doit être le numéro d'une de ses options ({}), pas '{}'.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="149"/>
        <source>Input {} is not a raster file (a web service or database source); RadioMatch reads raster files only. Save the layer as a GeoTIFF first.</source>
        <translation>L'entrée {} n'est pas un fichier raster (c'est un service web ou une base de données) ; RadioMatch ne lit que des fichiers raster. Enregistrez d'abord la couche en GeoTIFF.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="160"/>
        <source>Input {} is a folder, not a raster file; give the raster files themselves.</source>
        <translation>L'entrée {} est un dossier, pas un fichier raster ; indiquez les fichiers raster eux-mêmes.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="169"/>
        <source>Input {} is the sub-layer &apos;{}&apos; of {}; RadioMatch reads whole raster files. Save the layer as a GeoTIFF first.</source>
        <translation>L'entrée {} est la sous-couche '{}' de {} ; RadioMatch ne lit que des fichiers raster entiers. Enregistrez d'abord la couche en GeoTIFF.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="224"/>
        <source>The file {} ({}) is the input raster {}; inputs are never overwritten. Choose another file or folder.</source>
        <translation>Le fichier {} ({}) est le raster en entrée {} ; les entrées ne sont jamais écrasées. Choisissez un autre fichier ou dossier.</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="228"/>
        <source>The file {} ({}) is also the corrected raster {} of this run. Choose another file or folder.</source>
        <translation>Le fichier {} ({}) est aussi le raster corrigé {} de ce traitement. Choisissez un autre fichier ou dossier.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="54"/>
        <source>Mask feature {} of &apos;{}&apos; ({}) is a {}, not a polygon; the polygon mask must hold polygons only.</source>
        <translation>L'entité {} du masque '{}' ({}) est de type {}, pas un polygone ; le masque ne doit contenir que des polygones.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="85"/>
        <source>{} mask polygon(s) of &apos;{}&apos; had invalid geometries (self-intersections or the like) and were repaired as &apos;Fix geometries&apos; does: feature(s) {}.</source>
        <translation>{} polygone(s) du masque '{}' avaient des géométries invalides (auto-intersections ou autres) et ont été réparés comme le fait 'Réparer les géométries' : entité(s) {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="120"/>
        <source>points</source>
        <translation>des points</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="120"/>
        <source>lines</source>
        <translation>des lignes</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="121"/>
        <source>The polygon mask &apos;{}&apos; ({}) holds {}, not polygons; only polygons can mark the pixels to include or exclude.</source>
        <translation>Le masque de polygones '{}' ({}) contient {} et non des polygones ; seuls des polygones peuvent désigner les pixels à inclure ou à exclure.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="121"/>
        <source>no geometries</source>
        <translation>aucune géométrie</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="154"/>
        <source>Input {} is a GDAL subdataset of {}, not a raster file; RadioMatch reads whole raster files. Extract it as a GeoTIFF first (Raster &gt; Conversion &gt; Translate, or gdal_translate).</source>
        <translation>L'entrée {} est un sous-jeu de données GDAL de {}, pas un fichier raster ; RadioMatch lit des fichiers raster entiers. Extrayez-la d'abord en GeoTIFF (Raster &gt; Conversion &gt; Traduire, ou gdal_translate).</translation>
    </message>
    <message>
        <location filename="../algorithms/inputs.py" line="247"/>
        <source>Output file name &apos;{}&apos; ({}) starts with a dot, which makes hidden files that file browsers and QGIS&apos;s browser do not show; remove the dot.</source>
        <translation>Le nom de fichier de sortie '{}' ({}) commence par un point, ce qui crée des fichiers cachés que les explorateurs de fichiers et l'explorateur de QGIS n'affichent pas ; retirez le point.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="129"/>
        <source>The polygon mask &apos;{}&apos; has no field &apos;{}&apos; ({}); its fields are: {}.</source>
        <translation>Le masque de polygones '{}' n'a pas de champ '{}' ({}) ; ses champs sont : {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/mask.py" line="129"/>
        <source>none</source>
        <translation>aucun</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="85"/>
        <source>Seams before and after</source>
        <translation>Raccords avant et après</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="87"/>
        <source>No two images overlap with valid pixels, so there is no seam to measure.</source>
        <translation>Aucune paire d'images ne se recouvre avec des pixels valides : il n'y a pas de raccord à mesurer.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="101"/>
        <source>Mosaic-wide seam before</source>
        <translation>Raccord de la mosaïque avant</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="101"/>
        <source>After</source>
        <translation>Après</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="101"/>
        <source>Removed</source>
        <translation>Supprimé</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="139"/>
        <source>Band {} seams before and after</source>
        <translation>Bande {} : raccords avant et après</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression_report.py" line="188"/>
        <source>Seam before / after, per band</source>
        <translation>Raccord avant / après, par bande</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="127"/>
        <source>The exponent each block applies (1: unchanged; above 1 brightens, below 1 darkens). Between block centres the correction varies smoothly.</source>
        <translation>L'exposant que chaque bloc applique (1 : inchangé ; au-dessus de 1 éclaircit, en dessous assombrit). Entre les centres des blocs, la correction varie continûment.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="132"/>
        <source>Offset per block</source>
        <translation>Décalage par bloc</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="132"/>
        <source>The value each block adds to its pixels (0: unchanged). Between block centres the correction varies smoothly.</source>
        <translation>La valeur que chaque bloc ajoute à ses pixels (0 : inchangé). Entre les centres des blocs, la correction varie continûment.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="132"/>
        <source>offset</source>
        <translation>décalage</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="136"/>
        <source>Gain per block</source>
        <translation>Gain par bloc</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="136"/>
        <source>The factor each block multiplies its pixels by (1: unchanged). Between block centres the correction varies smoothly.</source>
        <translation>Le facteur par lequel chaque bloc multiplie ses pixels (1 : inchangé). Entre les centres des blocs, la correction varie continûment.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="210"/>
        <source>Local model</source>
        <translation>Modèle local</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="210"/>
        <source>smooth surfaces fitted to the overlaps</source>
        <translation>surfaces lisses ajustées aux recouvrements</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="210"/>
        <source>block means against their average</source>
        <translation>moyennes des blocs ramenées à leur moyenne</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="238"/>
        <source>The engine did not return the corrections of the blocks.</source>
        <translation>Le moteur n'a pas renvoyé les corrections des blocs.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="252"/>
        <source>Block means of each image</source>
        <translation>Moyennes des blocs de chaque image</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="310"/>
        <source>Building the mosaic</source>
        <translation>Construction de la mosaïque</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="321"/>
        <source>Reading the corrected rasters at reduced resolution</source>
        <translation>Lecture des rasters corrigés en résolution réduite</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="433"/>
        <source>Reading the input rasters at reduced resolution</source>
        <translation>Lecture des rasters en entrée en résolution réduite</translation>
    </message>
    <message>
        <location filename="../algorithms/engine.py" line="65"/>
        <source>In the conda environment QGIS runs in: {}</source>
        <translation>Dans l'environnement conda de QGIS : {}</translation>
    </message>
    <message>
        <location filename="../algorithms/engine.py" line="68"/>
        <source>In the OSGeo4W Shell (Start menu, QGIS folder): {}</source>
        <translation>Dans l'OSGeo4W Shell (menu Démarrer, dossier QGIS) : {}</translation>
    </message>
    <message>
        <location filename="../algorithms/engine.py" line="71"/>
        <source>In a Terminal, with the Python of QGIS.app: {}</source>
        <translation>Dans un Terminal, avec le Python de QGIS.app : {}</translation>
    </message>
    <message>
        <location filename="../algorithms/engine.py" line="74"/>
        <source>On Debian or Ubuntu, in a terminal: {} (do not pip-install rasterio into QGIS: its wheels bring another GDAL)</source>
        <translation>Sous Debian ou Ubuntu, dans un terminal : {} (n'installez pas rasterio dans QGIS avec pip : ses paquets wheel apportent un autre GDAL)</translation>
    </message>
    <message>
        <location filename="../algorithms/engine.py" line="89"/>
        <source>RadioMatch needs numpy, rasterio and scipy in the Python that QGIS uses. {}, then restart QGIS.</source>
        <translation>RadioMatch a besoin de numpy, rasterio et scipy dans le Python qu'utilise QGIS. {}, puis redémarrez QGIS.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="144"/>
        <source>Block</source>
        <translation>Bloc</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="144"/>
        <source>One cell of the grid laid over the union of the images; the correction is computed per block and varies smoothly between block centres.</source>
        <translation>Une cellule de la grille posée sur l'union des images ; la correction est calculée par bloc et varie continûment entre les centres des blocs.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="148"/>
        <source>Smooth surfaces</source>
        <translation>Surfaces lisses</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="148"/>
        <source>Per image and band, a low-order polynomial across the image fitted so that overlapping images agree block by block over the pixels both cover.</source>
        <translation>Par image et par bande, un polynôme de faible degré sur l'image, ajusté pour que les images qui se recouvrent concordent bloc par bloc sur les pixels qu'elles couvrent toutes deux.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="152"/>
        <source>Block mean, reference map, local map</source>
        <translation>Moyenne de bloc, carte de référence, carte locale</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="152"/>
        <source>The mean of an image&apos;s valid pixels in a block (its local map), and the mean of those means over all images covering the block (the reference map), which the correction brings each image to.</source>
        <translation>La moyenne des pixels valides d'une image dans un bloc (sa carte locale), et la moyenne de ces moyennes sur toutes les images qui couvrent le bloc (la carte de référence), vers laquelle la correction amène chaque image.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="157"/>
        <source>Gamma</source>
        <translation>Gamma</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="157"/>
        <source>The exponent of the power law value&apos; = (value + shift) ^ gamma - shift that brings a block&apos;s local mean to the reference mean.</source>
        <translation>L'exposant de la loi de puissance valeur' = (valeur + décalage) ^ gamma - décalage qui amène la moyenne locale d'un bloc à la moyenne de référence.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="160"/>
        <source>Gain</source>
        <translation>Gain</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="160"/>
        <source>The factor a block&apos;s pixels are multiplied by.</source>
        <translation>Le facteur par lequel les pixels d'un bloc sont multipliés.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="161"/>
        <source>The value added to a block&apos;s pixels.</source>
        <translation>La valeur ajoutée aux pixels d'un bloc.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="164"/>
        <source>A constant added to every value before the gamma correction and removed after it, so that the power law only sees values above 1 (needed for data with values at or below 0, such as reflectance); 0 when all values are above 1 already.</source>
        <translation>Une constante ajoutée à chaque valeur avant la correction gamma et retirée après, pour que la loi de puissance ne voie que des valeurs supérieures à 1 (nécessaire pour des données ayant des valeurs nulles ou négatives, comme la réflectance) ; 0 quand toutes les valeurs sont déjà supérieures à 1.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="168"/>
        <source>Valid values without both a reference and a local block mean nearby: they are left as they were.</source>
        <translation>Valeurs valides sans moyenne de bloc de référence et locale à proximité : elles sont laissées telles quelles.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="171"/>
        <source>Values whose local mean made the gamma exponent undefined (its logarithm close to 0): they are left as they were.</source>
        <translation>Valeurs dont la moyenne locale rendait l'exposant gamma indéfini (son logarithme proche de 0) : elles sont laissées telles quelles.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="232"/>
        <source>Blocks</source>
        <translation>Blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="254"/>
        <source>One cell per block, one colour scale for all maps of the band, from 2 % to 98 % of their values (a few extreme blocks take the end colours instead of flattening the others); hatched: no value. The dashed rectangle is the image&apos;s footprint.</source>
        <translation>Une cellule par bloc, une même échelle de couleurs pour toutes les cartes de la bande, de 2 % à 98 % de leurs valeurs (quelques blocs extrêmes prennent les couleurs des extrémités au lieu d'écraser les autres) ; hachuré : pas de valeur. Le rectangle en tirets est l'emprise de l'image.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment_report.py" line="270"/>
        <source>The colour scale is centred on the value that changes nothing and reaches 98 % of the corrections.</source>
        <translation>L'échelle de couleurs est centrée sur la valeur qui ne change rien et atteint 98 % des corrections.</translation>
    </message>
    <message>
        <location filename="../algorithms/mosaic.py" line="18"/>
        <source>The mosaic {} ({}) is a GDAL virtual raster: its file name must end in .vrt.</source>
        <translation>La mosaïque {} ({}) est un raster virtuel GDAL : son nom de fichier doit se terminer par .vrt.</translation>
    </message>
    <message>
        <location filename="../algorithms/mosaic.py" line="60"/>
        <source>The corrected rasters were written, but the mosaic {} could not be ({}).</source>
        <translation>Les rasters corrigés ont été écrits, mais la mosaïque {} n'a pas pu l'être ({}).</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="59"/>
        <source>The rasters to normalize (GeoTIFF or any other single-file raster GDAL reads): same CRS and band count, north-up. Their order is the image order of the model and of the mosaic. Each image is named after its file name without extension; names must be unique. At least two images, unless statistics loaded from an earlier run give a single one its partners. An alpha band or a GDAL mask marks the pixels to leave out and is kept in the outputs, as are the band descriptions, scale and offset, colour interpretation and tags. Layers that are not files (WMS, XYZ, virtual or memory layers) and palette rasters are refused.</source>
        <translation>Les rasters à normaliser (GeoTIFF ou tout autre raster en un seul fichier lisible par GDAL) : même SCR et même nombre de bandes, orientés nord en haut. Leur ordre est l'ordre des images du modèle et de la mosaïque. Chaque image porte le nom de son fichier sans extension ; les noms doivent être uniques. Au moins deux images, sauf si des statistiques chargées d'une exécution précédente donnent des partenaires à une image seule. Une bande alpha ou un masque GDAL marque les pixels à ignorer et est conservé dans les sorties, comme les descriptions de bandes, l'échelle et le décalage, l'interprétation des couleurs et les métadonnées. Les couches qui ne sont pas des fichiers (WMS, XYZ, couches virtuelles ou en mémoire) et les rasters à palette sont refusés.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="78"/>
        <source>The corrected rasters, in input order (connect this output to the next algorithm in a model). When &lt;i&gt;Open output file after running algorithm&lt;/i&gt; is ticked under &lt;i&gt;Mosaic&lt;/i&gt; (in Batch mode: &lt;i&gt;Load layers on completion&lt;/i&gt;), they are opened with the mosaic in one layer group, all with one style.</source>
        <translation>Les rasters corrigés, dans l'ordre des entrées (reliez cette sortie à l'algorithme suivant dans un modèle). Quand &lt;i&gt;Ouvrir le fichier en sortie après l'exécution de l'algorithme&lt;/i&gt; est coché sous &lt;i&gt;Mosaïque&lt;/i&gt; (en mode de traitement par lot : &lt;i&gt;Charger les couches&lt;/i&gt;), ils sont ouverts avec la mosaïque dans un groupe de couches, tous avec le même style.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="84"/>
        <source>Optional GDAL virtual raster (.vrt) of the corrected rasters: the whole set as one layer, without copying a pixel (it reads the corrected GeoTIFFs, so keep them next to it). The rasters are stacked in input order: where images overlap, the one later in the input list is shown; nodata and masked pixels show the images below. Created by default in the dialog, only when given in qgis_process and scripts. Ticking &lt;i&gt;Open output file after running algorithm&lt;/i&gt; opens it with the corrected rasters in one layer group, all with the same band mapping (the first input layer&apos;s, else red, green, blue = bands 1, 2, 3, or grey for one band) and one contrast stretch (2-98 % of the pixels of all outputs together), so that no seam is made up by the display.</source>
        <translation>Raster virtuel GDAL (.vrt) facultatif des rasters corrigés : tout l'ensemble en une couche, sans copier un pixel (il lit les GeoTIFF corrigés, gardez-les donc à côté). Les rasters sont empilés dans l'ordre des entrées : là où des images se recouvrent, celle qui vient plus loin dans la liste des entrées est affichée ; les pixels nodata et masqués laissent voir les images en dessous. Créée par défaut dans la boîte de dialogue, seulement si elle est donnée avec qgis_process et dans les scripts. Cocher &lt;i&gt;Ouvrir le fichier en sortie après l'exécution de l'algorithme&lt;/i&gt; l'ouvre avec les rasters corrigés dans un groupe de couches, tous avec les mêmes bandes affichées (celles de la couche de la première entrée, sinon rouge, vert, bleu = bandes 1, 2, 3, ou gris pour une bande) et un même étirement du contraste (2-98 % des pixels de toutes les sorties ensemble), pour que l'affichage n'invente aucune couture.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="110"/>
        <source>Data type of the outputs, by GDAL&apos;s names (Byte: 8-bit unsigned integers). &lt;i&gt;Same as input&lt;/i&gt; keeps each input&apos;s type. Integer outputs are rounded and clipped to the type&apos;s range; the report counts the clipped pixels.</source>
        <translation>Type de données des sorties, avec les noms de GDAL (Byte : entiers non signés sur 8 bits). &lt;i&gt;Identique à l'entrée&lt;/i&gt; garde le type de chaque entrée. Les sorties entières sont arrondies et écrêtées à l'intervalle du type ; le rapport compte les pixels écrêtés.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="115"/>
        <source>Optional nodata value used for every band of every input and output instead of the files&apos; own nodata (nan is accepted for Float32 and Float64 outputs). Empty: the nodata of the inputs (all their bands must agree).</source>
        <translation>Valeur nodata facultative utilisée pour toutes les bandes de toutes les entrées et sorties à la place de celle des fichiers (nan est accepté pour les sorties Float32 et Float64). Vide : le nodata des entrées (toutes leurs bandes doivent concorder).</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="124"/>
        <source>Floating-point type of the pixel arithmetic (statistics are always accumulated in Float64). &lt;i&gt;Automatic&lt;/i&gt; (default): Float64 when an input is UInt32, Int32 or Float64, whose values Float32 cannot all hold, else Float32. &lt;i&gt;Float32&lt;/i&gt; reproduces spectralmatch&apos;s arithmetic; on such inputs pixels then change by up to half a Float32 step, with a warning.</source>
        <translation>Type flottant du calcul sur les pixels (les statistiques sont toujours cumulées en Float64). &lt;i&gt;Automatique&lt;/i&gt; (par défaut) : Float64 quand une entrée est en UInt32, Int32 ou Float64, dont Float32 ne peut pas représenter toutes les valeurs, sinon Float32. &lt;i&gt;Float32&lt;/i&gt; reproduit le calcul de spectralmatch ; sur de telles entrées, les pixels changent alors jusqu'à un demi-pas de Float32, avec un avertissement.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="132"/>
        <source>Number of threads processing different images at the same time; with the tile threads it also sets how many threads GDAL compresses the outputs on. -1 (default): all the cores QGIS may use (Settings &gt; Options &gt; Rendering, &lt;i&gt;Max cores to use&lt;/i&gt;); 0: one image after the other, on one core, e.g. to keep QGIS responsive. Results do not depend on it.</source>
        <translation>Nombre de fils d'exécution traitant des images différentes en même temps ; avec les fils des tuiles, il fixe aussi le nombre de fils sur lesquels GDAL compresse les sorties. -1 (par défaut) : tous les cœurs que QGIS peut utiliser (Paramètres &gt; Options &gt; Rendu, &lt;i&gt;Nombre maximum de cœurs à utiliser&lt;/i&gt;) ; 0 : une image après l'autre, sur un cœur, par exemple pour garder QGIS réactif. Les résultats n'en dépendent pas.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="139"/>
        <source>Number of threads processing tiles of the same image at the same time; multiplies the image threads. 0 (default): one tile after the other; -1: all the cores QGIS may use. Results do not depend on it.</source>
        <translation>Nombre de fils d'exécution traitant des tuiles de la même image en même temps ; multiplie les fils des images. 0 (par défaut) : une tuile après l'autre ; -1 : tous les cœurs que QGIS peut utiliser. Les résultats n'en dépendent pas.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="144"/>
        <source>Size in pixels of the square tiles the images are read and written in (spectralmatch calls them windows). Empty or 0: automatic (the file&apos;s own block size, about 512). Memory use grows with it; results do not depend on it.</source>
        <translation>Taille en pixels des tuiles carrées dans lesquelles les images sont lues et écrites (spectralmatch les appelle des fenêtres). Vide ou 0 : automatique (la taille de bloc du fichier, environ 512). La mémoire utilisée croît avec elle ; les résultats n'en dépendent pas.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="158"/>
        <source>Optional HTML file receiving a report of the run: the seams before and after, the mosaic before and after, each image&apos;s histograms, the corrections and the clipped pixels (one self-contained file, opened from the Results Viewer). Empty: no report.</source>
        <translation>Fichier HTML facultatif recevant un rapport de l'exécution : les coutures avant et après, la mosaïque avant et après, les histogrammes de chaque image, les corrections et les pixels écrêtés (un seul fichier autonome, ouvert depuis la visionneuse de résultats). Vide : pas de rapport.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="90"/>
        <source>A seam is the difference between the mean values of two overlapping images over the pixels they both cover. The mosaic-wide figure is the mean of its absolute value over all overlaps, weighted by their pixel pairs; after the correction it should be close to 0.</source>
        <translation>Une couture est la différence entre les valeurs moyennes de deux images qui se recouvrent, sur les pixels qu'elles couvrent toutes deux. Le chiffre pour toute la mosaïque est la moyenne de sa valeur absolue sur tous les recouvrements, pondérée par leurs paires de pixels ; après la correction, il doit être proche de 0.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="95"/>
        <source>Measured on the input and output rasters read at reduced resolution (the engine reports no seams for this model), after the outputs were rounded to their data type.</source>
        <translation>Mesurées sur les rasters en entrée et en sortie lus en résolution réduite (le moteur ne donne pas de coutures pour ce modèle), après l'arrondi des sorties à leur type de données.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="95"/>
        <source>Computed by the engine over the pixels it compared (the consistent pixels, with robust statistics), from the fitted corrections before the outputs are rounded.</source>
        <translation>Calculées par le moteur sur les pixels qu'il a comparés (les pixels cohérents, avec les statistiques robustes), à partir des corrections ajustées, avant l'arrondi des sorties.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="114"/>
        <source>Band {} before / after</source>
        <translation>Bande {} avant / après</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="126"/>
        <source>The {} largest seams of {} overlaps.</source>
        <translation>Les {} plus grandes coutures sur {} recouvrements.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="135"/>
        <source>Seams per overlap</source>
        <translation>Coutures par recouvrement</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="150"/>
        <source>red, green, blue = bands {}</source>
        <translation>rouge, vert, bleu = bandes {}</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="151"/>
        <source>grey = band {}</source>
        <translation>gris = bande {}</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="156"/>
        <source>The mosaic before and after</source>
        <translation>La mosaïque avant et après</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="158"/>
        <source>The rasters could not be read to draw the mosaic.</source>
        <translation>Les rasters n'ont pas pu être lus pour dessiner la mosaïque.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="160"/>
        <source>The inputs and the corrected rasters stacked in input order, as the mosaic shows them (where images overlap, the later one in the input list), at reduced resolution. Both pictures have the same contrast stretch, the one the layers get in QGIS: 2-98 % of the pixels of all outputs together ({}).</source>
        <translation>Les entrées et les rasters corrigés empilés dans l'ordre des entrées, comme la mosaïque les montre (là où des images se recouvrent, celle qui vient plus loin dans la liste), en résolution réduite. Les deux images ont le même étirement du contraste, celui que les couches reçoivent dans QGIS : 2-98 % des pixels de toutes les sorties ensemble ({}).</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="166"/>
        <source>Mosaic of the inputs</source>
        <translation>Mosaïque des entrées</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="166"/>
        <source>Before: the inputs</source>
        <translation>Avant : les entrées</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="166"/>
        <source>Mosaic of the corrected rasters</source>
        <translation>Mosaïque des rasters corrigés</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="166"/>
        <source>After: the corrected rasters</source>
        <translation>Après : les rasters corrigés</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="208"/>
        <source>Histograms before and after</source>
        <translation>Histogrammes avant et après</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="210"/>
        <source>The rasters could not be read to draw the histograms.</source>
        <translation>Les rasters n'ont pas pu être lus pour dessiner les histogrammes.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="212"/>
        <source>Per image, the share of its valid pixels at each value ({}), read at reduced resolution: dashed before, solid after, on one value axis for all images (0.5-99.5 % of all their pixels). A balanced set has histograms that line up where the images see the same ground.</source>
        <translation>Par image, la part de ses pixels valides à chaque valeur ({}), lue en résolution réduite : en tirets avant, en trait plein après, sur un même axe des valeurs pour toutes les images (0,5-99,5 % de tous leurs pixels). Un ensemble équilibré a des histogrammes qui se superposent là où les images voient le même terrain.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="218"/>
        <source>{} histograms</source>
        <translation>Histogrammes de {}</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="240"/>
        <source>Clipped values</source>
        <translation>Valeurs écrêtées</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="241"/>
        <source>Share of the image</source>
        <translation>Part de l'image</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="258"/>
        <source>A clipped value was outside the range of the output data type and was set to its limit (0 or 255 for Byte), so it lost its differences with its neighbours. A value moved off nodata would have equalled the nodata value and was moved to the nearest other value.</source>
        <translation>Une valeur écrêtée sortait de l'intervalle du type de données en sortie et a été ramenée à sa limite (0 ou 255 pour Byte) : elle a perdu ses différences avec ses voisines. Une valeur écartée du nodata aurait été égale à la valeur nodata et a été déplacée à la valeur la plus proche.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="264"/>
        <source>What to do: more than 0.1 % of an image was clipped. Run again with a wider Output data type (advanced parameters: UInt16 for Byte inputs, or Float32, which keeps every value), or, in Global regression, choose as model images those whose brightness the others should follow, so that fewer images are pushed out of the range.</source>
        <translation>Que faire : plus de 0,1 % d'une image a été écrêté. Relancez avec un type de données en sortie plus large (paramètres avancés : UInt16 pour des entrées Byte, ou Float32, qui garde toutes les valeurs) ou, dans la régression globale, choisissez comme images modèles celles dont les autres doivent suivre la luminosité, pour que moins d'images soient poussées hors de l'intervalle.</translation>
    </message>
    <message>
        <location filename="../algorithms/report_sections.py" line="271"/>
        <source>Less than 0.1 % of any image was clipped: usually saturated pixels (clouds, snow, glints) pushed past the limit, which nothing needs to be done about.</source>
        <translation>Moins de 0,1 % de chaque image a été écrêté : en général des pixels saturés (nuages, neige, reflets) poussés au-delà de la limite, ce qui ne demande rien de faire.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="149"/>
        <source>Optional address of a Dask scheduler (e.g. tcp://host:8786) whose workers read the images, compute their statistics and write the outputs, one image per task; this machine plans the run, solves the model and renames the finished outputs. The inputs and the output folder must be paths every worker reaches as this machine does (a shared file system); the workers need numpy, rasterio and scipy and receive RadioMatch from this machine. The thread counts then only set GDAL&apos;s compression threads per output. Empty: this machine. The outputs are the same files.</source>
        <translation>Adresse facultative d'un ordonnanceur Dask (p. ex. tcp://host:8786) dont les processus de calcul (workers) lisent les images, calculent leurs statistiques et écrivent les sorties, une image par tâche ; cette machine prépare le traitement, résout le modèle et renomme les sorties terminées. Les entrées et le dossier de sortie doivent être des chemins que chaque processus de calcul atteint comme cette machine (un système de fichiers partagé) ; les processus de calcul ont besoin de numpy, rasterio et scipy et reçoivent RadioMatch de cette machine. Le nombre de fils d'exécution ne fixe alors que les fils de compression de GDAL par sortie. Vide : cette machine. Les sorties sont les mêmes fichiers.</translation>
    </message>
</context>
<context>
    <name>GlobalRegression</name>
    <message>
        <location filename="../algorithms/global_regression.py" line="46"/>
        <source>Global regression</source>
        <translation>Régression globale</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="49"/>
        <source>Makes overlapping rasters radiometrically consistent with one gain and offset per image and band.</source>
        <translation>Rend des rasters qui se recouvrent radiométriquement cohérents avec un gain et un décalage par image et par bande.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="54"/>
        <source>radiometric,normalization,normalisation,relative,color,colour,balancing,mosaic,regression,gain,offset,histogram,matching,overlap,seamline</source>
        <translation>radiométrique,normalisation,relative,couleur,équilibrage,égalisation,mosaïque,régression,gain,décalage,histogramme,recouvrement,ligne de raccord,radiometric,normalization,color,colour,balancing,mosaic,regression,offset,histogram,matching,overlap,seamline</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="70"/>
        <source>Model images (empty: all inputs)</source>
        <translation>Images du modèle (vide : toutes les entrées)</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="73"/>
        <source>Model images mode</source>
        <translation>Mode des images du modèle</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="73"/>
        <source>Include: only these images constrain the model</source>
        <translation>Inclure : seules ces images contraignent le modèle</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="73"/>
        <source>Exclude: these images follow the others</source>
        <translation>Exclure : ces images suivent les autres</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="79"/>
        <source>Weight of the overlap means</source>
        <translation>Poids des moyennes des recouvrements</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="82"/>
        <source>Weight of the overlap standard deviations</source>
        <translation>Poids des écarts types des recouvrements</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="85"/>
        <source>Load statistics from an adjustments file</source>
        <translation>Charger les statistiques d'un fichier d'ajustements</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="89"/>
        <source>Adjustments file</source>
        <translation>Fichier d'ajustements</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="89"/>
        <source>JSON files (*.json)</source>
        <translation>Fichiers JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>Optional rasters (normally some of the inputs) that choose which images constrain the solution; all inputs are corrected anyway. Empty: every input constrains it.</source>
        <translation>Rasters facultatifs (normalement certaines des entrées) qui choisissent les images qui contraignent la solution ; toutes les entrées sont corrigées de toute façon. Vide : chaque entrée la contraint.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>Optional JSON file receiving the scales, offsets and statistics (the spectralmatch layout), e.g. to reuse the statistics later.</source>
        <translation>Fichier JSON facultatif recevant les échelles, les décalages et les statistiques (au format de spectralmatch), par ex. pour réutiliser les statistiques plus tard.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>Optional adjustments JSON from an earlier run: its stored statistics are reused (images not among the inputs still constrain the model) and the model is solved again.</source>
        <translation>Fichier JSON d'ajustements facultatif d'une exécution précédente : ses statistiques enregistrées sont réutilisées (les images qui ne sont pas parmi les entrées contraignent toujours le modèle) et le modèle est résolu à nouveau.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="192"/>
        <source>Global regression of {} image(s) into {}</source>
        <translation>Régression globale de {} image(s) dans {}</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="206"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="210"/>
        <source>Model images</source>
        <translation>Images du modèle</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="210"/>
        <source>all inputs</source>
        <translation>toutes les entrées</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="213"/>
        <source>Polygon mask</source>
        <translation>Masque de polygones</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="213"/>
        <source>yes</source>
        <translation>oui</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="213"/>
        <source>no</source>
        <translation>non</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="215"/>
        <source>Weights of the overlap means / standard deviations</source>
        <translation>Poids des moyennes / écarts types des recouvrements</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="217"/>
        <source>Statistics loaded from</source>
        <translation>Statistiques chargées depuis</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="199"/>
        <source>{}, band {}: scale {:.6g}, offset {:.6g}</source>
        <translation>{}, bande {} : échelle {:.6g}, décalage {:.6g}</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="66"/>
        <source>Overlap statistics</source>
        <translation>Statistiques des recouvrements</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="66"/>
        <source>Robust: ignore pixels that disagree (clouds, shadows, changes)</source>
        <translation>Robustes : ignorer les pixels discordants (nuages, ombres, changements)</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>&lt;i&gt;Robust&lt;/i&gt; (default): in each overlap, only the pixel pairs that follow the two images&apos; dominant radiometric relation enter the statistics, so a cloud, a shadow or a change present in one image only does not bias the result. &lt;i&gt;All pixels&lt;/i&gt;: every valid pair counts, exactly as spectralmatch; use it for clean overlaps when you need the reference&apos;s numbers.</source>
        <translation>&lt;i&gt;Robustes&lt;/i&gt; (par défaut) : dans chaque recouvrement, seules les paires de pixels qui suivent la relation radiométrique dominante entre les deux images entrent dans les statistiques, si bien qu'un nuage, une ombre ou un changement présent dans une seule image ne fausse pas le résultat. &lt;i&gt;Tous les pixels&lt;/i&gt; : chaque paire valide compte, exactement comme dans spectralmatch ; à utiliser pour des recouvrements propres quand vous avez besoin des valeurs de la référence.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="229"/>
        <source>None of the model images ({}) is one of the input rasters, so no image would constrain the model ({}). Choose model images among the inputs.</source>
        <translation>Aucune des images du modèle ({}) ne fait partie des rasters en entrée : aucune image ne contraindrait le modèle ({}). Choisissez les images du modèle parmi les entrées.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="234"/>
        <source>The model images ({}) exclude every input raster, so no image would constrain the model ({}, {}).</source>
        <translation>Les images du modèle ({}) excluent tous les rasters en entrée : aucune image ne contraindrait le modèle ({}, {}).</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="207"/>
        <source>What keeps its overall radiometry</source>
        <translation>Ce qui garde sa radiométrie d'ensemble</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="60"/>
        <source>The whole set: seamless</source>
        <translation>L'ensemble des images : sans raccord</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>&lt;i&gt;Include&lt;/i&gt;: only the model images keep their overall radiometry and the others are fitted to them (one model image comes out unchanged). &lt;i&gt;Exclude&lt;/i&gt;: the model images are fitted to the others.</source>
        <translation>&lt;i&gt;Inclure&lt;/i&gt; : seules les images du modèle gardent leur radiométrie d'ensemble et les autres sont ajustées sur elles (une image du modèle seule ressort inchangée). &lt;i&gt;Exclure&lt;/i&gt; : les images du modèle sont ajustées sur les autres.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>&lt;i&gt;The whole set&lt;/i&gt; (default): the model images keep their mean and standard deviation together, exactly, and every overlap is free to agree: where the images differ by a gain and an offset the seams disappear. &lt;i&gt;Each image&lt;/i&gt;: every model image also tries to keep its own mean and standard deviation, against the overlaps, so the result is a compromise that leaves part of every seam; it reproduces spectralmatch&apos;s numbers.</source>
        <translation>&lt;i&gt;L'ensemble des images&lt;/i&gt; (par défaut) : les images du modèle gardent ensemble, exactement, leur moyenne et leur écart type, et chaque recouvrement est libre de s'accorder : là où les images diffèrent par un gain et un décalage, les raccords disparaissent. &lt;i&gt;Chaque image&lt;/i&gt; : chaque image du modèle cherche aussi à garder sa propre moyenne et son propre écart type, contre les recouvrements, si bien que le résultat est un compromis qui laisse une partie de chaque raccord ; il reproduit les valeurs de spectralmatch.</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>Weight of the overlap-mean equations relative to the standard-deviation ones and, when each image keeps its radiometry, to those anchoring equations (default 1; the least-squares weight is its square; 0: means are not matched).</source>
        <translation>Poids des équations des moyennes des recouvrements par rapport à celles des écarts types et, quand chaque image garde sa radiométrie, à ces équations d'ancrage (1 par défaut ; le poids des moindres carrés est son carré ; 0 : les moyennes ne sont pas appariées).</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="112"/>
        <source>Weight of the overlap standard-deviation equations (default 1; 0: contrasts are not matched, only offsets change).</source>
        <translation>Poids des équations des écarts types des recouvrements (1 par défaut ; 0 : les contrastes ne sont pas appariés, seuls les décalages changent).</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="207"/>
        <source>the whole set</source>
        <translation>l'ensemble des images</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="207"/>
        <source>each image</source>
        <translation>chaque image</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="60"/>
        <source>Each image: a compromise that leaves part of the seams (spectralmatch&apos;s method)</source>
        <translation>Chaque image : un compromis qui laisse une partie des coutures (la méthode de spectralmatch)</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="66"/>
        <source>All pixels (spectralmatch&apos;s method)</source>
        <translation>Tous les pixels (la méthode de spectralmatch)</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="94"/>
        <source>&lt;p&gt;Global regression makes overlapping rasters radiometrically consistent. For every band it solves one &lt;i&gt;scale&lt;/i&gt; and &lt;i&gt;offset&lt;/i&gt; per image by least squares, so that the mean and standard deviation of each image match those of its neighbours in their overlaps, while the whole set (or the model images together) keeps its overall radiometry. Each input gets a corrected GeoTIFF (&lt;code&gt;scale &amp;times; value + offset&lt;/code&gt;), and the mosaic shows them as one picture. Images that share no overlap with the others are solved as separate groups (with a warning). Run &lt;i&gt;Local block adjustment&lt;/i&gt; on the outputs to remove local differences.&lt;/p&gt;</source>
        <translation>&lt;p&gt;La régression globale rend des rasters qui se recouvrent cohérents sur le plan radiométrique. Pour chaque bande, elle résout par moindres carrés un &lt;i&gt;facteur&lt;/i&gt; et un &lt;i&gt;décalage&lt;/i&gt; par image, de sorte que la moyenne et l'écart-type de chaque image concordent avec ceux de ses voisines dans leurs recouvrements, tandis que l'ensemble (ou les images modèles ensemble) garde sa radiométrie globale. Chaque entrée reçoit un GeoTIFF corrigé (&lt;code&gt;facteur &amp;times; valeur + décalage&lt;/code&gt;), et la mosaïque les montre en une seule image. Les images sans recouvrement avec les autres sont résolues en groupes séparés (avec un avertissement). Lancez l'&lt;i&gt;ajustement local par blocs&lt;/i&gt; sur les sorties pour supprimer les différences locales.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../algorithms/global_regression.py" line="160"/>
        <source>load the statistics of the images it overlaps, saved by an earlier run, with &apos;Load statistics from an adjustments file&apos; (LOAD_ADJUSTMENTS).</source>
        <translation>chargez les statistiques des images qu'elle recouvre, enregistrées par une exécution précédente, avec « Charger les statistiques d'un fichier d'ajustements » (LOAD_ADJUSTMENTS).</translation>
    </message>
</context>
<context>
    <name>LocalBlockAdjustment</name>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="60"/>
        <source>Local block adjustment</source>
        <translation>Ajustement local par blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="63"/>
        <source>Removes local radiometric differences between overlapping rasters with block-mean maps.</source>
        <translation>Supprime les différences radiométriques locales entre des rasters qui se recouvrent à l'aide de cartes de moyennes par blocs.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="68"/>
        <source>radiometric,normalization,normalisation,relative,color,colour,balancing,mosaic,block,local,gamma,seamline,dodging</source>
        <translation>radiométrique,normalisation,relative,couleur,équilibrage,égalisation,mosaïque,bloc,local,gamma,ligne de raccord,radiometric,normalization,color,colour,balancing,mosaic,block,seamline,dodging</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="86"/>
        <source>Block grid</source>
        <translation>Grille de blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="86"/>
        <source>Number of blocks per image</source>
        <translation>Nombre de blocs par image</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="91"/>
        <source>Block rows</source>
        <translation>Lignes de blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="94"/>
        <source>Block columns</source>
        <translation>Colonnes de blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="309"/>
        <source>Correction method</source>
        <translation>Méthode de correction</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="113"/>
        <source>Load reference block map</source>
        <translation>Charger une carte de blocs de référence</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="113"/>
        <source>GeoTIFF files (*.tif *.tiff *.TIF *.TIFF)</source>
        <translation>Fichiers GeoTIFF (*.tif *.tiff *.TIF *.TIFF)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="117"/>
        <source>Load local block maps</source>
        <translation>Charger des cartes de blocs locales</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="124"/>
        <source>Block maps folder</source>
        <translation>Dossier des cartes de blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="120"/>
        <source>Open the saved block maps</source>
        <translation>Ouvrir les cartes de blocs enregistrées</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="127"/>
        <source>Block maps</source>
        <translation>Cartes de blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Optional reference block map saved by an earlier run (&lt;code&gt;reference_block_map.tif&lt;/code&gt;); the grid then comes from the file.</source>
        <translation>Carte de blocs de référence facultative enregistrée par une exécution précédente (&lt;code&gt;reference_block_map.tif&lt;/code&gt;) ; la grille vient alors du fichier.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Optional local block maps saved by an earlier run (&lt;code&gt;&amp;lt;name&amp;gt;_block_map.tif&lt;/code&gt;); a map is used for the input whose name matches. Inputs without a map get one computed on the loaded grid.</source>
        <translation>Cartes de blocs locales facultatives enregistrées par une exécution précédente (&lt;code&gt;&amp;lt;nom&amp;gt;_block_map.tif&lt;/code&gt;) ; une carte est utilisée pour l'entrée dont le nom correspond. Les entrées sans carte en reçoivent une calculée sur la grille chargée.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Optional folder receiving the block maps as GeoTIFFs (one pixel per block, NaN where a block has no value): &lt;code&gt;reference_block_map.tif&lt;/code&gt; and &lt;code&gt;&amp;lt;name&amp;gt;_block_map.tif&lt;/code&gt; per image.</source>
        <translation>Dossier facultatif recevant les cartes de blocs en GeoTIFF (un pixel par bloc, NaN là où un bloc n'a pas de valeur) : &lt;code&gt;reference_block_map.tif&lt;/code&gt; et &lt;code&gt;&amp;lt;nom&amp;gt;_block_map.tif&lt;/code&gt; par image.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>The saved block maps (reference first).</source>
        <translation>Les cartes de blocs enregistrées (la référence en premier).</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="339"/>
        <source>The block maps folder &apos;{}&apos; ({}) must not contain &apos;$&apos; (it marks the image name in the map file names).</source>
        <translation>Le dossier des cartes de blocs '{}' ({}) ne doit pas contenir '$' (il marque le nom de l'image dans les noms des fichiers de cartes).</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="351"/>
        <source>Block map not found: {}</source>
        <translation>Carte de blocs introuvable : {}</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="276"/>
        <source>Local block adjustment of {} image(s) into {}</source>
        <translation>Ajustement local par blocs de {} image(s) dans {}</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="295"/>
        <source>{} rows x {} columns</source>
        <translation>{} lignes x {} colonnes</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="297"/>
        <source>from the coefficient of variation</source>
        <translation>d'après le coefficient de variation</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="299"/>
        <source>{} blocks per image</source>
        <translation>{} blocs par image</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="301"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="302"/>
        <source>Block grid rule</source>
        <translation>Règle de la grille de blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="302"/>
        <source>loaded block maps</source>
        <translation>cartes de blocs chargées</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="304"/>
        <source>Alpha</source>
        <translation>Alpha</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="305"/>
        <source>Polygon mask</source>
        <translation>Masque de polygones</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="305"/>
        <source>yes</source>
        <translation>oui</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="305"/>
        <source>no</source>
        <translation>non</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="100"/>
        <source>Block statistics</source>
        <translation>Statistiques des blocs</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="74"/>
        <source>Local model</source>
        <translation>Modèle local</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="74"/>
        <source>Smooth surfaces fitted to the overlaps (leaves seamless images unchanged)</source>
        <translation>Surfaces lisses ajustées aux recouvrements (laisse inchangées les images déjà raccordées)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="100"/>
        <source>Robust: leave out blocks that disagree (clouds, shadows)</source>
        <translation>Robustes : écarter les blocs en désaccord (nuages, ombres)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>&lt;i&gt;Smooth surfaces&lt;/i&gt; (default): per image and band a smooth correction field (a low-order polynomial across the image that multiplies the values, or adds to them for data centred on 0) fitted jointly so that overlapping images agree, block by block, over the pixels both cover. It assumes the images differ by slowly varying effects (illumination, vignetting, haze): images that already agree are left unchanged, and partly covered blocks, nodata collars or a brighter part of the scene never pass for a difference. &lt;i&gt;Block means&lt;/i&gt;: each image&apos;s block means are pulled toward their average over all images (gamma or linear), exactly as spectralmatch. It assumes every image sees the same ground in a block, so images that agreed are bent toward each other where they cover different parts of a block.</source>
        <translation>&lt;i&gt;Surfaces lisses&lt;/i&gt; (par défaut) : par image et par bande, un champ de correction lisse (un polynôme de faible degré sur l'image, qui multiplie les valeurs, ou s'y ajoute pour des données centrées sur 0) ajusté conjointement pour que les images qui se recouvrent concordent, bloc par bloc, sur les pixels qu'elles couvrent toutes deux. Il suppose que les images diffèrent par des effets qui varient lentement (éclairement, vignettage, brume) : les images qui concordent déjà restent inchangées, et des blocs couverts en partie, des bordures sans données ou une partie plus claire de la scène ne passent jamais pour une différence. &lt;i&gt;Moyennes des blocs&lt;/i&gt; : les moyennes par bloc de chaque image sont ramenées vers leur moyenne sur toutes les images (gamma ou linéaire), exactement comme dans spectralmatch. Il suppose que chaque image voit le même sol dans un bloc, si bien que des images qui concordaient sont rapprochées l'une de l'autre là où elles couvrent des parties différentes d'un bloc.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Blend between no correction (0) and the full correction (1).</source>
        <translation>Dosage entre aucune correction (0) et la correction complète (1).</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>&lt;i&gt;Robust&lt;/i&gt; (default): a block that disagrees with the others (a cloud, a shadow, a change) is left out: with smooth surfaces a block comparison that disagrees with the fit of all the others; with block means a block mean that disagrees with the other images&apos; means of the same block, which is left out of the reference and of that image&apos;s correction (with two images both means). &lt;i&gt;All blocks&lt;/i&gt;: every block counts, exactly as spectralmatch.</source>
        <translation>&lt;i&gt;Robustes&lt;/i&gt; (par défaut) : un bloc en désaccord avec les autres (un nuage, une ombre, un changement) est écarté : avec les surfaces lisses, une comparaison de bloc en désaccord avec l'ajustement de toutes les autres ; avec les moyennes des blocs, une moyenne de bloc en désaccord avec les moyennes des autres images pour le même bloc, écartée de la référence et de la correction de cette image (avec deux images, les deux moyennes). &lt;i&gt;Tous les blocs&lt;/i&gt; : chaque bloc compte, exactement comme dans spectralmatch.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="74"/>
        <source>Block means against their average (spectralmatch&apos;s method)</source>
        <translation>Moyennes de blocs ramenées à leur moyenne (la méthode de spectralmatch)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="82"/>
        <source>Strength of the correction (alpha, 0 to 1)</source>
        <translation>Force de la correction (alpha, de 0 à 1)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="86"/>
        <source>Rows and columns</source>
        <translation>Lignes et colonnes</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="86"/>
        <source>From the variability of the images (coefficient of variation)</source>
        <translation>D'après la variabilité des images (coefficient de variation)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="97"/>
        <source>Correction method (block means model)</source>
        <translation>Méthode de correction (modèle des moyennes de blocs)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="97"/>
        <source>Gamma</source>
        <translation>Gamma</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="97"/>
        <source>Linear</source>
        <translation>Linéaire</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="100"/>
        <source>All blocks (spectralmatch&apos;s method)</source>
        <translation>Tous les blocs (la méthode de spectralmatch)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="106"/>
        <source>Minimum share of valid pixels per block</source>
        <translation>Part minimale de pixels valides par bloc</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="110"/>
        <source>Extent of the block grid (empty: union of the inputs)</source>
        <translation>Emprise de la grille de blocs (vide : union des entrées)</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="131"/>
        <source>&lt;p&gt;Local block adjustment removes the local radiometric differences that remain between overlapping rasters, typically after &lt;i&gt;Global regression&lt;/i&gt; (chain Global regression&apos;s corrected rasters into this algorithm&apos;s input). The union of the images is divided into a grid of blocks. By default each image gets a smooth correction surface, fitted so that overlapping images agree block by block over the pixels they both cover; images that already agree are left unchanged. The &lt;i&gt;block means&lt;/i&gt; model (spectralmatch&apos;s) instead pulls each image&apos;s block means toward their average over all images (gamma or linear), interpolated bilinearly to every pixel; its blocks are coarser than overlaps, so adjacent images sharing a block are corrected even where they do not overlap.&lt;/p&gt;</source>
        <translation>&lt;p&gt;L'ajustement local par blocs supprime les différences radiométriques locales qui subsistent entre des rasters qui se recouvrent, typiquement après la &lt;i&gt;régression globale&lt;/i&gt; (enchaînez les rasters corrigés de la régression globale dans l'entrée de cet algorithme). L'union des images est divisée en une grille de blocs. Par défaut, chaque image reçoit une surface de correction lisse, ajustée pour que les images qui se recouvrent concordent bloc par bloc sur les pixels qu'elles couvrent toutes deux ; les images qui concordent déjà restent inchangées. Le modèle des &lt;i&gt;moyennes de blocs&lt;/i&gt; (celui de spectralmatch) rapproche plutôt les moyennes de blocs de chaque image de leur moyenne sur toutes les images (gamma ou linéaire), interpolée bilinéairement à chaque pixel ; ses blocs sont plus grossiers que les recouvrements, si bien que des images voisines partageant un bloc sont corrigées même là où elles ne se recouvrent pas.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>How the block grid is chosen: &lt;i&gt;Number of blocks per image&lt;/i&gt; (default: the number above, spread over the whole extent in proportion to its shape), &lt;i&gt;Rows and columns&lt;/i&gt; (the block rows and columns below), or a square grid sized from the variability of the images&apos; first band (its coefficient of variation: 10 x 10 at 0.36, finer for more varied images). The numbers the rule does not use are ignored, with a warning when they were changed; the whole rule is ignored when block maps are loaded.</source>
        <translation>Comment la grille de blocs est choisie : &lt;i&gt;Nombre de blocs par image&lt;/i&gt; (par défaut : le nombre ci-dessus, réparti sur toute l'emprise selon sa forme), &lt;i&gt;Lignes et colonnes&lt;/i&gt; (les lignes et colonnes de blocs ci-dessous), ou une grille carrée dimensionnée d'après la variabilité de la première bande des images (son coefficient de variation : 10 x 10 à 0,36, plus fine pour des images plus variées). Les nombres que la règle n'utilise pas sont ignorés, avec un avertissement s'ils ont été modifiés ; toute la règle est ignorée quand des cartes de blocs sont chargées.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Target number of blocks per input image, when the block grid is chosen by number of blocks (the default). The grid covers the union of all images, so it has at most this number times the number of images blocks.</source>
        <translation>Nombre de blocs visé par image en entrée, quand la grille de blocs est choisie par nombre de blocs (par défaut). La grille couvre l'union de toutes les images : elle a donc au plus ce nombre multiplié par le nombre d'images de blocs.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Number of block rows, when the block grid is chosen by rows and columns.</source>
        <translation>Nombre de lignes de blocs, quand la grille de blocs est choisie par lignes et colonnes.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Number of block columns, when the block grid is chosen by rows and columns.</source>
        <translation>Nombre de colonnes de blocs, quand la grille de blocs est choisie par lignes et colonnes.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Block means model only. &lt;i&gt;Gamma&lt;/i&gt;: a power law that brings the local mean to the reference mean (the method of Yu et al. 2017; robust for reflectance and negative values). &lt;i&gt;Linear&lt;/i&gt;: scales each pixel by reference mean / local mean.</source>
        <translation>Modèle des moyennes de blocs seulement. &lt;i&gt;Gamma&lt;/i&gt; : une loi de puissance qui amène la moyenne locale à la moyenne de référence (la méthode de Yu et al. 2017 ; robuste pour la réflectance et les valeurs négatives). &lt;i&gt;Linéaire&lt;/i&gt; : multiplie chaque pixel par moyenne de référence / moyenne locale.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>A block gets a mean only if at least this share of its pixels is valid (0 to 1, default 0.001).</source>
        <translation>Un bloc n'a une moyenne que si au moins cette part de ses pixels est valide (de 0 à 1, 0,001 par défaut).</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Optional extent of the block grid (xmin, xmax, ymin, ymax; spectralmatch calls it the canvas), in the rasters&apos; CRS unless a CRS is given. Empty: the union of the inputs. When block maps are loaded it must match their extent.</source>
        <translation>Emprise facultative de la grille de blocs (xmin, xmax, ymin, ymax ; spectralmatch l'appelle le canevas), dans le SCR des rasters sauf si un SCR est indiqué. Vide : l'union des entrées. Quand des cartes de blocs sont chargées, elle doit correspondre à leur emprise.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="150"/>
        <source>Also open the saved block maps when the algorithm finishes, in the run&apos;s layer group.</source>
        <translation>Ouvrir aussi les cartes de blocs enregistrées à la fin de l'algorithme, dans le groupe de couches de l'exécution.</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="228"/>
        <source>load the block maps of the images it overlaps, saved by an earlier run, with &apos;Load local block maps&apos; (LOAD_LOCAL_BLOCK_MAPS).</source>
        <translation>chargez les cartes de blocs des images qu'elle recouvre, enregistrées par une exécution précédente, avec « Charger des cartes de blocs locales » (LOAD_LOCAL_BLOCK_MAPS).</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="237"/>
        <source>the block grid comes from the loaded block maps</source>
        <translation>la grille de blocs vient des cartes de blocs chargées</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="243"/>
        <source>the block grid is chosen by &apos;{}&apos; ({})</source>
        <translation>la grille de blocs est choisie par « {} » ({})</translation>
    </message>
    <message>
        <location filename="../algorithms/local_block_adjustment.py" line="252"/>
        <source>{} ({}) = {} is ignored: {}.</source>
        <translation>{} ({}) = {} est ignoré : {}.</translation>
    </message>
</context>
<context>
    <name>RadioMatchAlgorithm</name>
    <message>
        <location filename="../algorithms/algorithm.py" line="148"/>
        <source>Radiometric normalization</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Normalisation radiométrique</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="185"/>
        <source>Command line (qgis_process)</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Ligne de commande (qgis_process)</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="211"/>
        <source>Input rasters</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Rasters en entrée</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="216"/>
        <source>Polygon mask for the statistics</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Masque de polygones pour les statistiques</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="219"/>
        <source>Mask mode</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Mode du masque</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="219"/>
        <source>Include: use only pixels inside the polygons</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Inclure : n'utiliser que les pixels à l'intérieur des polygones</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="219"/>
        <source>Exclude: ignore pixels inside the polygons</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Exclure : ignorer les pixels à l'intérieur des polygones</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="224"/>
        <source>Mask field holding image names</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Champ du masque contenant les noms d'images</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="230"/>
        <source>Same as input</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Identique à l'entrée</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="232"/>
        <source>Output data type</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Type de données en sortie</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="235"/>
        <source>Nodata value override</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Valeur nodata imposée</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="238"/>
        <source>Save as Cloud-Optimized GeoTIFF</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Enregistrer en GeoTIFF optimisé pour le cloud (COG)</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="241"/>
        <source>Calculation data type</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Type de données des calculs</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="247"/>
        <source>Tile size in pixels (empty: automatic)</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Taille des tuiles en pixels (vide : automatique)</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="265"/>
        <source>Detailed log messages</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Messages détaillés dans le journal</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="273"/>
        <source>Output file name ($ = input name)</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Nom des fichiers de sortie ($ = nom de l'entrée)</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="276"/>
        <source>Output folder</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="285"/>
        <source>Corrected rasters</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Rasters corrigés</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="281"/>
        <source>Report</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="281"/>
        <source>HTML files (*.html)</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="182"/>
        <source>Lists are given by repeating the parameter; enums take the index of their option; MOSAIC is written only when given.</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Les listes se donnent en répétant le paramètre ; les énumérations prennent l'indice de leur option ; MOSAIC n'est écrite que si elle est donnée.</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="241"/>
        <source>Automatic: Float64 for 32-bit integer and Float64 rasters, else Float32</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Automatique : Float64 pour les rasters en entiers 32 bits et en Float64, sinon Float32</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="251"/>
        <source>Images processed in parallel (threads; -1 all cores, 0 none)</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Images traitées en parallèle (fils d'exécution ; -1 tous les cœurs, 0 aucun)</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="256"/>
        <source>Tiles processed in parallel (threads; -1 all cores, 0 none)</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Tuiles traitées en parallèle (fils d'exécution ; -1 tous les cœurs, 0 aucun)</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="342"/>
        <source>Mosaic</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Mosaïque</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="480"/>
        <source>No input rasters: choose at least two overlapping rasters for {}.</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Aucun raster en entrée : choisissez au moins deux rasters qui se recouvrent pour {}.</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="483"/>
        <source>Only one input raster in {}: a single image has no other image to be balanced against. Choose at least two overlapping rasters, or {}</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Un seul raster en entrée dans {} : une image seule n'a aucune autre image avec laquelle être équilibrée. Choisissez au moins deux rasters qui se recouvrent, ou {}</translation>
    </message>
    <message>
        <location filename="../algorithms/algorithm.py" line="261"/>
        <source>Dask scheduler address (empty: this machine)</source>
        <comment>RadioMatchAlgorithm</comment>
        <translation>Normalisation radiométrique</translation>
    </message>
</context>
<context>
    <name>RadioMatchProvider</name>
    <message>
        <location filename="../algorithms/provider.py" line="32"/>
        <source>RadioMatch radiometric normalization</source>
        <translation>Normalisation radiométrique RadioMatch</translation>
    </message>
</context>
</TS>
